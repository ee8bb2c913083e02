import { connect, type NatsConnection } from 'nats';
import { VisorError } from '../errors.js';

/** `nats://host:port` (or several, comma-separated) checked before any connection is tried. */
export function queueServers(url: string): string[] {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new VisorError('QUEUE_UNAVAILABLE', 'no queue given: pass --queue nats://host:4222 (or set VISOR_QUEUE)');
  for (const s of servers) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new VisorError('QUEUE_UNAVAILABLE', `--queue ${s} is not a URL; expected nats://host:4222`);
    }
    if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new VisorError('QUEUE_UNAVAILABLE', `--queue ${s}: expected a nats:// URL`);
  }
  return servers;
}

/**
 * A connection to the NATS server that carries work queues and leases. Fails at once, naming
 * the URL, when the server is not there (rather than waiting to reconnect); once connected,
 * brief outages are ridden out by reconnecting.
 */
export async function connectQueue(url: string, name = 'visor'): Promise<NatsConnection> {
  const servers = queueServers(url);
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name, timeout: 5_000, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: false });
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    throw new VisorError(
      'QUEUE_UNAVAILABLE',
      `cannot reach the queue at ${url} (${code}); start nats-server with JetStream (-js), or fix --queue / VISOR_QUEUE`,
      {
        cause: e,
      },
    );
  }
  try {
    // Work queues and leases live in JetStream: a server without it is refused here, clearly.
    await (await nc.jetstreamManager()).getAccountInfo();
  } catch (e) {
    await nc.close();
    throw new VisorError('QUEUE_UNAVAILABLE', `the NATS server at ${url} has no JetStream; start it with -js (JetStream on)`, { cause: e });
  }
  return nc;
}
