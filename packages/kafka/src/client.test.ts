// ./client first: it installs the kafkajs send fix, which must come before kafkajs loads its producer
import { kafkajsLevel } from './client';
import { logLevel } from 'kafkajs';

describe('kafkajsLevel', () => {
  it('keeps what kafkajs retries itself at debug, whether the reason is in the error or in the message', () => {
    expect(kafkajsLevel(logLevel.ERROR, '[Connection] Response GroupCoordinator', 'The coordinator is loading and hence can\'t process requests')).toBe('debug');
    expect(kafkajsLevel(logLevel.ERROR, '[Consumer] Restarting the consumer in 300ms', 'The group is rebalancing, so a rejoin is needed')).toBe('debug');
    expect(
      kafkajsLevel(logLevel.ERROR, 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing', undefined),
    ).toBe('debug');
  });

  it('keeps every other entry at its own level', () => {
    expect(kafkajsLevel(logLevel.ERROR, 'Failed to send messages: Request exceeded the maximum size', undefined)).toBe('error');
    expect(kafkajsLevel(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner', undefined)).toBe('warn');
    expect(kafkajsLevel(logLevel.ERROR, '[Producer] Failed', { not: 'a string' })).toBe('error');
  });
});
