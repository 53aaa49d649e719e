// How far the writer's consumer group trails each input topic, polled from the broker for the lag gauge.
import { consumerLag, createAdmin, type ConsumerProgress, type Kafka } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { consumerLagGauge } from './metrics';

/** Polls every `everyMs` until the returned stop function is called. */
export async function pollConsumerLag(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  log: Logger,
  everyMs = 10_000,
  progress?: ConsumerProgress,
): Promise<() => Promise<void>> {
  const admin = createAdmin(kafka);
  await admin.connect();
  let stopped = false;
  const poll = async () => {
    for (const topic of topics) {
      if (stopped) return;
      try {
        const lag = await consumerLag(admin, groupId, topic);
        consumerLagGauge.set({ topic }, lag);
        progress?.setLag(topic, -1, lag);
      } catch (err) {
        log.debug({ err, topic }, 'lag_poll_failed');
      }
    }
  };
  const timer = setInterval(() => void poll(), everyMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await admin.disconnect();
  };
}
