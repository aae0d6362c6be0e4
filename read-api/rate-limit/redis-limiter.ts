import { Redis } from 'ioredis';
import { STREAM_LEASE_MS, type AdmitRequest, type AdmitResult, type LimitName, type QuotaLimiter, type Ticket } from './limiter.ts';

// The same accounting as InProcessLimiter, shared by every API process through Redis. Each call is
// one Lua script, so checking all scopes and charging them is atomic; the clock is Redis's own
// (TIME), so processes with skewed clocks agree. Bucket keys expire after two idle minutes.

const BUCKET = `
local function bucket(key, cap, now)
  local v = redis.call('HMGET', key, 't', 'a')
  local tokens = tonumber(v[1])
  local at = tonumber(v[2])
  if tokens == nil then tokens = cap; at = now end
  tokens = math.min(cap, tokens + (now - at) * cap / 60000)
  return tokens
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// KEYS: per scope rpm, tpm, streams. ARGV: ticket, stream(0|1), leaseMs, requests, then per scope rpmCap, tpmCap, streamsCap, cost.
const ADMIT = `${BUCKET}
local now = now_ms()
local ticket, stream, lease, requests = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 3
local worst_ms, worst_limit, worst_scope = -1, '', 0
local state = {}
for i = 1, n do
  local rk, tk, sk = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local rcap, tcap, scap, cost = tonumber(ARGV[4*i+1]), tonumber(ARGV[4*i+2]), tonumber(ARGV[4*i+3]), tonumber(ARGV[4*i+4])
  local r = bucket(rk, rcap, now)
  local t = bucket(tk, tcap, now)
  state[i] = { r, t }
  local function miss(limit, ms) if ms > worst_ms then worst_ms = ms; worst_limit = limit; worst_scope = i end end
  if r < requests then miss('rpm', (requests - r) * 60000 / rcap) end
  if t < cost then miss('tpm', (cost - t) * 60000 / tcap) end
  if stream then
    redis.call('ZREMRANGEBYSCORE', sk, '-inf', now)
    if redis.call('ZCARD', sk) >= scap then miss('streams', 1000) end
  end
end
if worst_ms >= 0 then return { 0, worst_limit, worst_scope, math.ceil(worst_ms) } end
for i = 1, n do
  local rk, tk, sk = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local cost = tonumber(ARGV[4*i+4])
  redis.call('HSET', rk, 't', state[i][1] - requests, 'a', now)
  redis.call('PEXPIRE', rk, 120000)
  redis.call('HSET', tk, 't', state[i][2] - cost, 'a', now)
  redis.call('PEXPIRE', tk, 120000)
  if stream then
    redis.call('ZADD', sk, now + lease, ticket)
    redis.call('PEXPIRE', sk, lease * 2)
  end
end
return { 1 }
`;

// KEYS: per scope tpm, streams. ARGV: ticket, then per scope tpmCap, refund (reserved − actual).
const SETTLE = `${BUCKET}
local now = now_ms()
local ticket = ARGV[1]
for i = 1, #KEYS / 2 do
  local tk, sk = KEYS[2*i-1], KEYS[2*i]
  local cap, refund = tonumber(ARGV[2*i]), tonumber(ARGV[2*i+1])
  local t = bucket(tk, cap, now)
  t = math.max(-cap, math.min(cap, t + refund))
  redis.call('HSET', tk, 't', t, 'a', now)
  redis.call('PEXPIRE', tk, 120000)
  redis.call('ZREM', sk, ticket)
end
return 1
`;

// KEYS: streams sets. ARGV: leaseMs, tickets...
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + lease, ARGV[i + 1])
end
return 1
`;

type ScriptRedis = Redis & {
  parleyAdmit(...args: (string | number)[]): Promise<[number, string?, number?, number?]>;
  parleySettle(...args: (string | number)[]): Promise<number>;
  parleyRenew(...args: (string | number)[]): Promise<number>;
};

export class RedisLimiter implements QuotaLimiter {
  private readonly redis: ScriptRedis;

  constructor(url: string, private readonly prefix = 'parley:quota:') {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) as ScriptRedis;
    this.redis.defineCommand('parleyAdmit', { lua: ADMIT });
    this.redis.defineCommand('parleySettle', { lua: SETTLE });
    this.redis.defineCommand('parleyRenew', { lua: RENEW });
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const keys: string[] = [];
    const argv: (string | number)[] = [req.ticketId, req.stream ? '1' : '0', STREAM_LEASE_MS, req.requests ?? 1];
    const reserved: number[] = [];
    for (const s of req.scopes) {
      keys.push(`${this.prefix}${s.key}:rpm`, `${this.prefix}${s.key}:tpm`, `${this.prefix}${s.key}:streams`);
      const cost = Math.min(req.tokens, s.limits.tpm);
      reserved.push(cost);
      argv.push(s.limits.rpm, s.limits.tpm, s.limits.streams, cost);
    }
    const r = await this.redis.parleyAdmit(keys.length, ...keys, ...argv);
    if (r[0] === 1) return { ok: true, reserved };
    return { ok: false, limit: r[1] as LimitName, scope: req.scopes[(r[2] ?? 1) - 1]!.key, retryAfterMs: Number(r[3] ?? 1000) };
  }

  async settle(ticket: Ticket, actualTokens: number): Promise<void> {
    const keys: string[] = [];
    const argv: (string | number)[] = [ticket.ticketId];
    ticket.scopes.forEach((s, i) => {
      keys.push(`${this.prefix}${s.key}:tpm`, `${this.prefix}${s.key}:streams`);
      argv.push(s.limits.tpm, ticket.reserved[i]! - actualTokens);
    });
    await this.redis.parleySettle(keys.length, ...keys, ...argv);
  }

  async renew(tickets: Ticket[]): Promise<void> {
    const keys: string[] = [];
    const ids: string[] = [];
    for (const t of tickets) if (t.stream) for (const s of t.scopes) { keys.push(`${this.prefix}${s.key}:streams`); ids.push(t.ticketId); }
    if (keys.length) await this.redis.parleyRenew(keys.length, ...keys, STREAM_LEASE_MS, ...ids);
  }

  async ping(): Promise<boolean> {
    return (await this.redis.ping()) === 'PONG';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
