// A tsbox process attaching a container, to be SIGKILLed at any point of it by the test.
// argv: distDir paths.json netnsPath networkName containerId
import { openSync, readFileSync } from 'node:fs';
const [dist, ctxFile, netnsPath, network, id] = process.argv.slice(2);
const net = await import(`${dist}/network/index.js`);
const opts = JSON.parse(readFileSync(ctxFile, 'utf8'));
const ctx = net.netContext(opts);
const fd = openSync(netnsPath, 'r');
const def = net.readNetwork(ctx.paths, network);
await net.attach(ctx, net.planAttachment(def, { id, name: 'victim' }, { ports: ['80'] }), fd);
console.log('attached');
setInterval(() => {}, 1000);
