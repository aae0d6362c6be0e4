import { AppendSignal } from '../append-signal.ts';
import pg from 'pg';

// Wakes readers when events are appended (LISTEN/NOTIFY). Readers also poll, so a lost
// connection or an aborted slow transaction only delays them, never stalls them.
export class AppendNotifier {
  private readonly appends = new AppendSignal();
  private client: pg.Client | null = null;
  private closed = false;

  constructor(private readonly connectionString: string, private readonly channel = 'parley_events') {}

  async start(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', () => this.bump());
    client.on('error', () => this.reconnectSoon(client));
    client.on('end', () => this.reconnectSoon(client));
    try {
      await client.connect();
      await client.query(`listen ${this.channel}`);
      this.client = client;
      this.bump(); // anything appended while we were away
    } catch {
      this.reconnectSoon(client);
    }
  }

  get current(): number {
    return this.appends.current;
  }

  // Resolves when a notification newer than `seen` arrives, after `timeoutMs`, or on abort.
  wait(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.appends.wait(seen, timeoutMs, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.appends.release();
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private bump() {
    this.appends.bump();
  }

  private reconnectSoon(client: pg.Client) {
    if (this.client === client) this.client = null;
    client.removeAllListeners();
    client.end().catch(() => undefined);
    if (!this.closed) setTimeout(() => void this.start(), 1000).unref();
  }
}
