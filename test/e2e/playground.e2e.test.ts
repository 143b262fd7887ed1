// The web playground in a real browser (Debian's Chromium driven by playwright-core) against the
// real stack: API and worker processes, a private Redis, an S3-protocol store, the tiny models.
// A txt2img job and an inpaint job with a mask painted in the page run to their images with live
// progress; a long job is canceled from the page. A screenshot goes to test/artifacts/ every run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';
import { slowStepsEnv, type ServiceProcess } from '../support/service-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
/** Every UNet evaluation of the worker is held this long (test hook): progress is visible and a
 *  60-step job is still running when the page cancels it, by construction. */
const STEP_MS = 60;
const ADMIN_TOKEN = 'admin-token-for-the-dashboard';
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// CI installs Chromium (.ci/run); a developer machine without it skips, saying why.
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium)`;

describe('web playground in Chromium', { skip, timeout: 240_000 }, () => {
  let stack: E2eStack;
  let worker: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    stack = await startE2eStack({ ADMIN_TOKEN });
    // WORKER_HEALTH_PORT=0: the worker's health server (and /metrics) on a free port it logs.
    worker = await stack.startWorker({ ...slowStepsEnv(STEP_MS), WORKER_HEALTH_PORT: '0' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: BROWSER_ARGS,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${stack.baseUrl}/`);
    // Models are listed: the page talked to the API.
    await page.waitForSelector('#model option[value="tiny-sd15"]', { state: 'attached' });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** An input image the API stored for a job (<prefix>/<id>/inputs/<name>.png). */
  async function readStoredInput(id: string, name: string): Promise<Buffer> {
    const { bucket, endpoint, region, credentials } = stack.s3;
    const prefix = new URL(stack.s3.env.STORAGE_URL).pathname.replace(/^\/+|\/+$/g, '');
    const client = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${id}/inputs/${name}.png` }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } finally {
      client.destroy();
    }
  }

  /** Clicks Generate and returns the id of the job card it added (cards are prepended). */
  async function generate(): Promise<string> {
    const before = await page.locator('#jobs .job').count();
    await page.click('#generate');
    await page.waitForFunction(`document.querySelectorAll('#jobs .job').length > ${before}`);
    return (await page.locator('#jobs .job').first().getAttribute('data-job-id'))!;
  }

  /** Waits until the job's card shows `status`. */
  async function cardStatus(id: string, status: string): Promise<void> {
    await page.locator(`#jobs .job[data-job-id="${id}"][data-status="${status}"]`).waitFor({ timeout: 90_000 });
  }

  /** Resolves once the newest job card has shown a step strictly between 0 and its total. */
  function seesProgressBetweenSteps(): Promise<unknown> {
    // A string: these tests type-check without the DOM library; the page evaluates it.
    return page.waitForFunction(`(() => {
      const card = document.querySelector('#jobs .job');
      const bar = card && card.querySelector('.bar');
      const now = Number(bar && bar.getAttribute('aria-valuenow'));
      const max = Number(bar && bar.getAttribute('aria-valuemax'));
      return !!card && card.getAttribute('data-status') === 'running' && now > 0 && now < max;
    })()`, undefined, { timeout: 90_000, polling: 'raf' });
  }

  test('txt2img: live progress, then the images in the gallery with their parameters and a download link', async () => {
    await page.fill('#prompt', 'a red fox in the snow');
    await page.fill('#negative-prompt', 'blurry');
    await page.fill('#steps', '12');
    await page.fill('#seed', '42');
    await page.fill('#num-images', '2');
    await page.selectOption('#scheduler', 'euler');
    const progressSeen = seesProgressBetweenSteps();
    // The running job's card shows its live preview (SSE preview events), decoded by the browser.
    const previewSeen = page.waitForFunction(`(() => {
      const img = document.querySelector('#jobs .job[data-status="running"] img.preview');
      return !!img && !img.hidden && img.src.startsWith('data:image/webp;base64,') && img.complete && img.naturalWidth > 0;
    })()`, undefined, { timeout: 90_000, polling: 'raf' });
    const id = await generate();
    await progressSeen;
    await previewSeen;
    await cardStatus(id, 'succeeded');
    assert.equal(await page.locator(`#jobs .job[data-job-id="${id}"] img.preview`).isHidden(), true, 'the preview goes when the job ends');

    const job = await stack.getJob(id);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.params.preview, { every_steps: 1, format: 'webp' });
    assert.equal(job.params.seed, 42);
    assert.equal(job.params.steps, 12);
    assert.equal(job.params.scheduler, 'euler');
    assert.equal(job.params.negative_prompt, 'blurry');
    assert.equal(job.result!.images.length, 2);

    const cards = page.locator(`#gallery .result[data-job-id="${id}"]`);
    assert.equal(await cards.count(), 2);
    // The images really loaded in the page (decoded, with the job's size).
    const imgs = `document.querySelectorAll('#gallery .result[data-job-id="${id}"] img')`;
    await page.waitForFunction(`[...${imgs}].every((img) => img.complete && img.naturalWidth > 0)`);
    const width = await page.evaluate(`${imgs}[0].naturalWidth`);
    assert.equal(width, job.params.width);
    const text = await cards.first().locator('.params').textContent();
    assert.match(text!, /seed 4[23]/);
    assert.match(text!, /12 steps/);
    const href = await cards.first().locator('a.download').getAttribute('href');
    assert.ok(job.result!.images.some((img) => img.url.split('?')[0] === href!.split('?')[0]), 'download link is an image URL of the job');
    assert.match((await cards.first().locator('a.download').getAttribute('download'))!, new RegExp(`^sdsvc-${id}-\\d\\.png$`));
  });

  test('img2img: an uploaded image and a strength; the size follows the image', async () => {
    await page.click('#mode-img2img');
    assert.equal(await page.locator('#mask-tools').isHidden(), true, 'no mask tools for img2img');
    const init = await sharp({ create: { width: 80, height: 48, channels: 3, background: { r: 200, g: 160, b: 40 } } }).png().toBuffer();
    await page.setInputFiles('#init-image', { name: 'init.png', mimeType: 'image/png', buffer: init });
    await page.waitForFunction(`document.getElementById('width').value === '80' && document.getElementById('height').value === '48'`);
    await page.fill('#prompt', 'a watercolor field');
    await page.fill('#steps', '6');
    await page.fill('#num-images', '1');
    await page.locator('#strength').fill('0.5');
    const id = await generate();
    await cardStatus(id, 'succeeded');
    const job = await stack.getJob(id);
    assert.equal((job as unknown as { type: string }).type, 'img2img');
    assert.equal(job.params.strength, 0.5);
    assert.deepEqual([job.params.width, job.params.height], [80, 48]);
    assert.deepEqual([job.result!.images[0]!.width, job.result!.images[0]!.height], [80, 48]);
  });

  test('inpaint: a mask painted over the uploaded image is sent with the job, which succeeds', async () => {
    await page.click('#mode-inpaint');
    const init = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
    await page.setInputFiles('#init-image', { name: 'init.png', mimeType: 'image/png', buffer: init });
    const canvas = page.locator('#mask-canvas');
    await canvas.waitFor({ state: 'visible' });
    await page.fill('#prompt', 'a black cat');
    await page.fill('#steps', '8');
    await page.fill('#num-images', '1');

    // Generate before painting: the page refuses, saying why.
    await page.click('#generate');
    await page.locator('#message', { hasText: 'Paint the area' }).waitFor();

    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.3, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.7, { steps: 8 });
    await page.mouse.up();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}playground-inpaint.png` });
    const id = await generate();
    await cardStatus(id, 'succeeded');
    const job = await stack.getJob(id);
    assert.equal(job.status, 'succeeded');
    assert.equal((job as unknown as { type: string }).type, 'inpaint');
    assert.equal(job.result!.images.length, 1);
    // The mask reached the store with the job, at the image's size: white where painted, black elsewhere.
    const { data, info } = await sharp(await readStoredInput(id, 'mask_image')).greyscale().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [64, 64]);
    assert.equal(data[Math.round(0.3 * 64) * 64 + 32], 255, 'a painted pixel is white');
    assert.equal(data[Math.round(0.5 * 64) * 64 + 48], 255, 'a pixel of the second stroke is white');
    assert.equal(data[2 * 64 + 2], 0, 'an unpainted corner is black');
    assert.equal(data[60 * 64 + 10], 0, 'another unpainted pixel is black');
    await page.locator(`#gallery .result[data-job-id="${id}"] img`).waitFor();
  });

  test('cancel a running job from the page: it ends canceled', async () => {
    await page.click('#mode-txt2img');
    await page.fill('#prompt', 'a long job to cancel');
    await page.fill('#steps', '60');
    await page.fill('#num-images', '1');
    const progressSeen = seesProgressBetweenSteps();
    const id = await generate();
    await progressSeen;
    const card = page.locator(`#jobs .job[data-job-id="${id}"]`);
    await card.locator('button.cancel').click();
    await cardStatus(id, 'canceled');
    const job = await stack.getJob(id);
    assert.equal(job.status, 'canceled');
    assert.ok(job.progress.step < job.progress.total, `stopped at ${job.progress.step}/${job.progress.total}`);
    assert.equal(await card.locator('button.cancel').isHidden(), true, 'no cancel button on an ended job');
  });

  test('/metrics of the worker (health port) and of the API count what the page did', async () => {
    const listening = await worker.waitForLog((l) => typeof l.port === 'number' && String(l.msg).startsWith('worker health server listening'), 'health server');
    const sample = (text: string, name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1));
    const w = await (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
    assert.equal(sample(w, 'sdsvc_images_generated_total{type="txt2img",model="tiny-sd15"}'), 2);
    assert.equal(sample(w, 'sdsvc_images_generated_total{type="inpaint",model="tiny-sd15"}'), 1);
    assert.equal(sample(w, 'sdsvc_job_run_seconds_count{type="txt2img",model="tiny-sd15",outcome="succeeded"}'), 1);
    assert.equal(sample(w, 'sdsvc_job_run_seconds_count{type="txt2img",model="tiny-sd15",outcome="canceled"}'), 1);
    assert.equal(sample(w, 'sdsvc_job_wait_seconds_count{type="inpaint",model="tiny-sd15"}'), 1);
    assert.ok(sample(w, 'sdsvc_denoise_step_seconds_count{model="tiny-sd15"}') >= 11 + 7, 'step times of both finished jobs');
    assert.equal(sample(w, 'sdsvc_resident_models{model="tiny-sd15"}'), 1);
    assert.equal(sample(w, 'sdsvc_model_load_seconds_count{model="tiny-sd15"}'), 1);
    assert.equal(sample(w, 'sdsvc_execution_provider{provider="cpu"}'), 1);

    const a = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    assert.ok(sample(a, 'sdsvc_http_request_duration_seconds_count{method="POST",route="/v1/jobs",status_code="202"}') >= 3);
    assert.ok(sample(a, 'sdsvc_http_request_duration_seconds_count{method="GET",route="/v1/jobs/:id/events",status_code="200"}') >= 3);
    assert.equal(sample(a, 'sdsvc_queue_jobs{queue="generate.tiny-sd15",state="waiting"}'), 0);
    assert.equal(sample(a, 'sdsvc_queue_up{queue="webhooks"}'), 1);
  });

  test('the API docs and the queue dashboard render in the browser from the service alone (no CDN)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, httpCredentials: { username: 'admin', password: ADMIN_TOKEN } });
    try {
      const p = await context.newPage();
      const origins = new Set<string>();
      p.on('request', (r) => { if (!r.url().startsWith('data:')) origins.add(new URL(r.url()).origin); });
      await p.goto(`${stack.baseUrl}/docs/`);
      await p.locator('.swagger-ui .info .title').waitFor();
      await p.locator('.opblock-summary-path', { hasText: '/v1/jobs' }).first().waitFor();
      await mkdir(ARTIFACTS, { recursive: true });
      await p.screenshot({ path: `${ARTIFACTS}docs.png` });
      await p.goto(`${stack.baseUrl}/admin/queues`);
      await p.getByText('generate.tiny-sd15', { exact: true }).first().waitFor(); // one generate queue per model
      await p.getByText('webhooks', { exact: true }).first().waitFor();
      await p.screenshot({ path: `${ARTIFACTS}queues.png` });
      assert.deepEqual([...origins], [new URL(stack.baseUrl).origin], 'every asset from the service itself');
    } finally {
      await context.close();
    }
  });

  test('screenshot of the playground (test/artifacts/playground.png, and playground-inpaint.png with the mask); no script errors', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}playground.png`, fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});

describe('web playground with API keys', { skip, timeout: 120_000 }, () => {
  const KEY = 'playground-user-key';
  let stack: E2eStack;
  let browser: Browser;

  before(async () => {
    stack = await startE2eStack({ API_KEYS: KEY }); // no worker: jobs stay queued
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('asks for the key, then lists models, follows a job over SSE and cancels it, all with the key', async () => {
    const page = await browser.newPage();
    const authHeaders: Array<string | undefined> = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/v1/')) authHeaders.push(r.headers().authorization); });
    await page.goto(`${stack.baseUrl}/`);
    await page.locator('#api-key-box.needed').waitFor();
    await page.locator('#message', { hasText: 'needs an API key' }).waitFor();
    assert.equal(await page.locator('#model option').count(), 0);

    await page.fill('#api-key', KEY);
    await page.locator('#api-key').dispatchEvent('change');
    await page.waitForSelector('#model option[value="tiny-sd15"]', { state: 'attached' });
    assert.equal(await page.locator('#api-key-box.needed').count(), 0);

    await page.fill('#prompt', 'queued behind no worker');
    await page.click('#generate');
    const card = page.locator('#jobs .job').first();
    await card.and(page.locator('[data-status="queued"]')).waitFor();
    await card.locator('.detail', { hasText: /queued/ }).waitFor();
    await card.locator('button.cancel').click();
    await card.and(page.locator('[data-status="canceled"]')).waitFor();
    const id = (await card.getAttribute('data-job-id'))!;
    const job = await fetch(`${stack.baseUrl}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(((await job.json()) as { status: string }).status, 'canceled');
    // The first /v1 call went without a key (and was refused); every later one carried it.
    assert.ok(authHeaders.length >= 4);
    assert.deepEqual(authHeaders.slice(authHeaders.indexOf(`Bearer ${KEY}`)).filter((h) => h !== `Bearer ${KEY}`), []);
    assert.ok(authHeaders.includes(`Bearer ${KEY}`));
  });
});
