import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
const nc = await connect({ servers: '127.0.0.1:14222' });
const kvm = new Kvm(nc);
const kv = await kvm.create('T', { history: 1, max_age: 3600_000 });
const N = 2000;
let t = performance.now();
for (let i = 0; i < N; i++) await kv.put('k' + (i % 50), String(i));
console.log('put', ((performance.now() - t) / N * 1000).toFixed(0), 'µs');
t = performance.now();
let conflicts = 0;
async function incr(key) {
  for (;;) {
    const e = await kv.get(key);
    const v = e ? Number(e.string()) + 1 : 1;
    try { if (e) await kv.update(key, String(v), e.revision); else await kv.create(key, String(v)); return v; } catch { conflicts++; }
  }
}
await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < N / 4; i++) await incr('c'); }));
console.log('cas incr (4 concurrent on one key)', ((performance.now() - t) / N * 1000).toFixed(0), 'µs each, conflicts', conflicts, 'value', (await kv.get('c')).string());
await nc.close();
