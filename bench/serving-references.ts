import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Two reference points for reading the serving numbers on a small machine (bench/README.md).
 *
 * httpFloor: what Node's HTTP server itself costs per request on this machine: a bare `node:http`
 * server in this process reads and JSON-parses the same predict bodies and answers a response of the
 * serving app's size, driven by autocannon in a child process (so this process's CPU is the
 * server's). Against the serving app's request-thread CPU per request, it shows what the predict path
 * adds to HTTP.
 */
export async function httpFloor(body: string, response: string, connections: number, seconds: number) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(response),
      });
      res.end(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const cli = require.resolve('autocannon/autocannon.js');
    const args = [
      cli,
      '-c',
      String(connections),
      '-d',
      String(seconds),
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      body,
      '-j',
      `http://127.0.0.1:${port}/`,
    ];
    const before = process.cpuUsage();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    const cpu = process.cpuUsage(before);
    const result = JSON.parse(out) as autocannon.Result;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      requestsPerSec: result.requests.total / result.duration,
      serverCoresUsed: cpuSeconds / result.duration,
      serverCpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests.total),
      non2xx: result.non2xx,
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * `measure` run twice: as it is, and with a child process spinning on the other core the whole time
 * (a JS busy loop: no memory traffic to speak of). On 2 vCPUs that share a physical core, or more of
 * it than their caches, the second is slower; the serving side always runs with the other core busy
 * (HTTP, the load generator), the baseline with it idle.
 */
export async function withBusySibling<T>(measure: () => Promise<T>): Promise<{ alone: T; busySibling: T }> {
  const alone = await measure();
  const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { alone, busySibling: await measure() };
  } finally {
    spinner.kill('SIGKILL');
    await new Promise((resolve) => spinner.once('exit', resolve));
  }
}
