// Readiness of the local ClickHouse server: /ping answers "Ok." and the service user (from the credentials file)
// runs SELECT 1. Polls until both hold, the server process (pid) exits, or the timeout passes (exit 1).
//   node ready.js CREDENTIALS_FILE TIMEOUT_S [PID]
/* global AbortSignal */
const { readFileSync } = require('node:fs');

const [file, timeoutS = '90', pid] = process.argv.slice(2);
const alive = () => {
  if (!pid) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};

async function probe() {
  const creds = Object.fromEntries(
    readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const ping = await fetch(`${creds.CLICKHOUSE_URL}/ping`, { signal: AbortSignal.timeout(3000) });
  if (!ping.ok || (await ping.text()).trim() !== 'Ok.') throw new Error(`/ping answered ${ping.status}`);
  const auth = Buffer.from(`${creds.CLICKHOUSE_USER}:${creds.CLICKHOUSE_PASSWORD}`).toString('base64');
  const res = await fetch(`${creds.CLICKHOUSE_URL}/?query=SELECT%201`, { headers: { authorization: `Basic ${auth}` }, signal: AbortSignal.timeout(5000) });
  const body = (await res.text()).trim();
  if (!res.ok || body !== '1') throw new Error(`SELECT 1 as ${creds.CLICKHOUSE_USER} answered ${res.status}: ${body.slice(0, 200)}`);
  return creds.CLICKHOUSE_URL;
}

(async () => {
  const deadline = Date.now() + Number(timeoutS) * 1000;
  let last;
  for (;;) {
    if (!alive()) {
      console.error('the ClickHouse server process exited');
      process.exit(1);
    }
    try {
      console.log(`clickhouse ready at ${await probe()}`);
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      console.error(`clickhouse not ready after ${timeoutS} s: ${last && last.message}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
})();
