// Run inside a test network namespace (ip netns exec NS node net-probe.mjs ...):
//   serve PORT TEXT [HOST]   answer every TCP connection with TEXT, print "ready" once listening
//   get HOST PORT            print what the server says; exit 1 if it cannot connect in 3 s
//   fetch URL                print the HTTP status of a GET (NAT and DNS out of the namespace)
//   udp HOST PORT TEXT       send one datagram and exit
//   userve PORT TEXT         answer every datagram with TEXT, print "ready" once bound
//   uget HOST PORT           send a datagram, print the answer; exit 1 without one in 3 s
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
