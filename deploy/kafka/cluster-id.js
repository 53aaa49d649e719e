// A KRaft cluster id as Kafka's own `kafka-storage.sh random-uuid` makes it: 16 random bytes in base64url without
// padding, never starting with '-' (the storage tool's argument parser would read such an id as an option).
//   node cluster-id.js   prints a new id
const { randomBytes } = require('node:crypto');

/** @param {(n: number) => Buffer} [random] source of random bytes (tests force ids that start with '-') */
function clusterId(random = randomBytes) {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

module.exports = { clusterId };

if (require.main === module) process.stdout.write(`${clusterId()}\n`);
