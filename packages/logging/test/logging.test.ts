import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, REDACTED, withJobId, withRequestId } from '../src/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, destination };
}

test('JSON lines with level label, name and ISO time', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'debug', name: 'api', destination });
  log.debug({ a: 1 }, 'hello');
  log.trace('dropped');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 'debug');
  assert.equal(lines[0].name, 'api');
  assert.equal(lines[0].msg, 'hello');
  assert.equal(lines[0].a, 1);
  assert.ok(!Number.isNaN(Date.parse(String(lines[0].time))));
});

test('request_id and job_id are bound on every line of a child', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  const req = withRequestId(log, 'req-1');
  const job = withJobId(req, 'job-9', { attempt: 2 });
  req.info('one');
  job.info('two');
  job.warn('three');
  assert.deepEqual(lines.map((l) => l.msg), ['one', 'two', 'three'], 'every line was written');
  assert.equal(lines[0].request_id, 'req-1');
  assert.equal(lines[0].job_id, undefined);
  for (const l of lines.slice(1)) {
    assert.equal(l.request_id, 'req-1');
    assert.equal(l.job_id, 'job-9');
    assert.equal(l.attempt, 2);
  }
});

test('Authorization headers and secrets are redacted', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.info({ req: { headers: { authorization: 'Bearer k1', host: 'x' } } }, 'incoming');
  log.info({ headers: { authorization: 'Bearer k2' } }, 'outgoing');
  log.info({ config: { webhookSecret: 'whsec_abc', apiKeys: ['k3'], port: 1 } }, 'config');
  assert.equal(lines.length, 3, 'every line was written (an empty log would hide nothing)');
  const text = JSON.stringify(lines);
  for (const s of ['k1', 'k2', 'k3', 'whsec_abc']) assert.ok(!text.includes(s), s);
  assert.equal((lines[0].req as any).headers.authorization, REDACTED);
  assert.equal((lines[0].req as any).headers.host, 'x');
  assert.equal((lines[2].config as any).port, 1);
});
