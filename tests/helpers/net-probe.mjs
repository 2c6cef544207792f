// Run inside a test network namespace (ip netns exec NS node net-probe.mjs ...):
//   serve PORT TEXT [HOST]   answer every TCP connection with TEXT, print "ready" once listening
//   get HOST PORT            print what the server says; exit 1 if it cannot connect in 3 s
//   fetch URL                print the HTTP status of a GET (NAT and DNS out of the namespace)
//   udp HOST PORT TEXT       send one datagram and exit
//   userve PORT TEXT         answer every datagram with TEXT, print "ready" once bound
//   uget HOST PORT           send a datagram, print the answer; exit 1 without one in 3 s
//   dnstcp SERVER NAME       an A query over TCP port 53; print the addresses, one a line
import { connect, createServer } from 'node:net';
import https from 'node:https';
import { createSocket } from 'node:dgram';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'serve') {
  createServer((s) => s.end(`${b}\n`)).listen(Number(a), c ?? '0.0.0.0', () => console.log('ready'));
} else if (mode === 'get') {
  const s = connect({ host: a, port: Number(b) });
  let got = '';
  s.setTimeout(3000, () => { console.error('timeout'); process.exit(1); });
  s.on('data', (d) => { got += d; });
  s.on('end', () => { process.stdout.write(got); process.exit(0); });
  s.on('error', (e) => { console.error(e.code); process.exit(1); });
} else if (mode === 'fetch') {
  const req = https.get(a, { timeout: 15000 }, (res) => { console.log(res.statusCode); res.resume(); res.on('end', () => process.exit(0)); });
  req.on('timeout', () => { console.error('timeout'); process.exit(1); });
  req.on('error', (e) => { console.error(e.code ?? e.message); process.exit(1); });
} else if (mode === 'udp') {
  const s = createSocket('udp4');
  s.send(c, Number(b), a, (err) => { if (err) console.error(err.code); s.close(); process.exitCode = err ? 1 : 0; });
}
if (mode === 'userve') {
  const s = createSocket('udp4');
  s.on('message', (_m, r) => s.send(`${b}\n`, r.port, r.address));
  s.bind(Number(a), '0.0.0.0', () => console.log('ready'));
} else if (mode === 'uget') {
  const s = createSocket('udp4');
  const t = setTimeout(() => { console.error('timeout'); process.exit(1); }, 3000);
  s.on('message', (m) => { clearTimeout(t); process.stdout.write(m.toString()); process.exit(0); });
  s.send('?', Number(b), a);
}
if (mode === 'dnstcp') {
  const q = Buffer.alloc(12);
  q.writeUInt16BE(0x4242, 0);
  q.writeUInt16BE(0x0100, 2);
  q.writeUInt16BE(1, 4);
  const name = Buffer.concat([...b.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]), Buffer.from([0, 0, 1, 0, 1])]);
  const msg = Buffer.concat([q, name]);
  const s = connect({ host: a, port: 53 });
  let got = Buffer.alloc(0);
  s.setTimeout(5000, () => { console.error('timeout'); process.exit(1); });
  s.on('error', (e) => { console.error(e.code); process.exit(1); });
  s.on('connect', () => { const l = Buffer.alloc(2); l.writeUInt16BE(msg.length, 0); s.write(Buffer.concat([l, msg])); });
  s.on('data', (d) => {
    got = Buffer.concat([got, d]);
    if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
    const r = got.subarray(2);
    if (r.readUInt16BE(0) !== 0x4242) { console.error('wrong id'); process.exit(1); }
    // Walk past the question, then print every A record's address.
    let off = 12;
    const skipName = () => { while (r[off] !== 0) { if ((r[off] & 0xc0) === 0xc0) { off += 1; break; } off += r[off] + 1; } off += 1; };
    skipName(); off += 4;
    for (let i = 0; i < r.readUInt16BE(6); i++) {
      skipName();
      const type = r.readUInt16BE(off); const len = r.readUInt16BE(off + 8);
      if (type === 1 && len === 4) console.log([...r.subarray(off + 10, off + 14)].join('.'));
      off += 10 + len;
    }
    process.exit(0);
  });
}
