// The playground page: a form for a job, live progress of each job, and a gallery of results.
import { ApiError, apiKey, cancelJob, followJob, listModels, setApiKey, submitJob } from './api.js';
import { MaskEditor } from './mask-editor.js';

const $ = (id) => document.getElementById(id);
const state = { mode: 'txt2img', models: [], initImage: null /* { dataUrl, width, height } */ };

const editor = new MaskEditor({
  container: $('editor'), imageCanvas: $('image-canvas'), overlayCanvas: $('mask-canvas'), brushInput: $('brush-size'),
});

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

// ---- API key ---------------------------------------------------------------------------------
$('api-key').value = apiKey();
$('api-key').addEventListener('change', () => {
  setApiKey($('api-key').value.trim());
  void loadModels();
});

// ---- models ------------------------------------------------------------------------------------
async function loadModels() {
  try {
    state.models = (await listModels()).data;
    $('api-key-box').classList.remove('needed');
    showMessage('');
  } catch (err) {
    state.models = [];
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      $('api-key-box').classList.add('needed');
      showMessage('This server needs an API key: enter it at the top right.');
    } else {
      showMessage(`Could not list the models: ${err.message}`);
    }
  }
  renderModels();
}

function renderModels() {
  const select = $('model');
  const previous = select.value;
  select.replaceChildren();
  const usable = state.models.filter((m) => m.capabilities.includes(state.mode));
  for (const m of usable) select.append(new Option(`${m.id}${m.default ? ' (default)' : ''}`, m.id));
  const keep = usable.find((m) => m.id === previous) ?? usable.find((m) => m.default) ?? usable[0];
  if (keep) select.value = keep.id;
  onModelChange(keep?.id !== previous);
}

function currentModel() {
  return state.models.find((m) => m.id === $('model').value);
}

function onModelChange(resetSize = true) {
  const model = currentModel();
  const scheduler = $('scheduler');
  const chosen = scheduler.value;
  scheduler.replaceChildren(new Option(model ? `default (${model.default_scheduler})` : 'default', 'default'));
  for (const name of model?.schedulers ?? []) scheduler.append(new Option(name, name));
  scheduler.value = [...scheduler.options].some((o) => o.value === chosen) ? chosen : 'default';
  if (!model) return;
  for (const id of ['width', 'height']) {
    $(id).step = String(model.size_step);
    $(id).min = String(model.size_step);
  }
  if (resetSize) fitSize();
}
$('model').addEventListener('change', () => onModelChange());

/** Width and height: the init image's size on the model's size step, else its native size. */
function fitSize() {
  const model = currentModel();
  if (!model) return;
  const step = model.size_step;
  const floor = (v) => Math.max(step, Math.min(2048, Math.floor(v / step) * step));
  const source = state.mode !== 'txt2img' && state.initImage ? state.initImage : model.native_size;
  $('width').value = floor(source.width);
  $('height').value = floor(source.height);
}

// ---- mode --------------------------------------------------------------------------------------
function setMode(mode) {
  state.mode = mode;
  for (const b of document.querySelectorAll('.modes button')) b.setAttribute('aria-selected', String(b.dataset.mode === mode));
  $('image-input').hidden = mode === 'txt2img';
  $('mask-tools').hidden = mode !== 'inpaint';
  for (const el of document.querySelectorAll('.inpaint-only')) el.hidden = mode !== 'inpaint';
  $('editor').classList.toggle('view-only', mode !== 'inpaint');
  $('strength').value = mode === 'inpaint' ? '1' : '0.75';
  $('strength-value').textContent = $('strength').value;
  renderModels();
}
for (const b of document.querySelectorAll('.modes button')) b.addEventListener('click', () => setMode(b.dataset.mode));
$('strength').addEventListener('input', () => { $('strength-value').textContent = $('strength').value; });
$('random-seed').addEventListener('click', () => { $('seed').value = ''; });
$('clear-mask').addEventListener('click', () => editor.clear());
$('mask-canvas').addEventListener('pointerdown', () => showMessage(''));

// ---- init image --------------------------------------------------------------------------------
$('init-image').addEventListener('change', async () => {
  const file = $('init-image').files?.[0];
  if (!file) return;
  const dataUrl = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  state.initImage = { dataUrl, width: image.naturalWidth, height: image.naturalHeight };
  editor.setImage(image);
  $('editor').hidden = false;
  fitSize();
});

// ---- submit --------------------------------------------------------------------------------------
function numberOf(id) {
  const raw = $(id).value.trim();
  return raw === '' ? undefined : Number(raw);
}

function buildJob() {
  const body = {
    type: state.mode,
    prompt: $('prompt').value,
    model: $('model').value || undefined,
    width: numberOf('width'),
    height: numberOf('height'),
    steps: numberOf('steps'),
    guidance_scale: numberOf('guidance'),
    scheduler: $('scheduler').value,
    seed: numberOf('seed'),
    num_images: numberOf('num-images'),
    // Live previews in the job card: about ten per image.
    preview: { every_steps: Math.max(1, Math.floor((numberOf('steps') ?? 20) / 10)), format: 'webp' },
  };
  const negative = $('negative-prompt').value.trim();
  if (negative) body.negative_prompt = negative;
  if (state.mode !== 'txt2img') {
    if (!state.initImage) throw new Error('Choose an image first.');
    body.init_image = state.initImage.dataUrl;
    body.strength = Number($('strength').value);
  }
  if (state.mode === 'inpaint') {
    const mask = editor.maskDataUrl();
    if (!mask) throw new Error('Paint the area to repaint over the image first.');
    body.mask_image = mask;
    body.mask_blur = numberOf('mask-blur');
  }
  return body;
}

$('job-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showMessage('');
  let body;
  try {
    body = buildJob();
  } catch (err) {
    showMessage(err.message);
    return;
  }
  $('generate').disabled = true;
  try {
    const job = await submitJob(body);
    void track(job);
  } catch (err) {
    showMessage(err instanceof ApiError ? `${err.code ?? 'error'}: ${err.message}` : err.message);
  } finally {
    $('generate').disabled = false;
  }
});

// ---- jobs and gallery -----------------------------------------------------------------------
function jobCard(job) {
  const li = document.createElement('li');
  li.className = 'job';
  li.dataset.jobId = job.id;
  li.innerHTML = `<span class="title"></span><span class="status"></span>
    <div class="bar" role="progressbar" aria-valuemin="0"><div></div></div>
    <span class="detail"></span><button type="button" class="cancel">Cancel</button>
    <img class="preview" alt="live preview" hidden>`;
  li.querySelector('.title').textContent = `${job.type} · ${job.params.prompt || job.params.prompt_raw || ''}`;
  li.querySelector('.cancel').addEventListener('click', async () => {
    try {
      await cancelJob(job.id);
    } catch (err) {
      showMessage(err.message);
    }
  });
  $('jobs').prepend(li);
  return li;
}

function renderJob(li, job) {
  li.dataset.status = job.status;
  li.querySelector('.status').textContent = job.status;
  const { step, total } = job.progress;
  const pct = job.status === 'succeeded' ? 100 : total > 0 ? Math.round((step / total) * 100) : 0;
  const bar = li.querySelector('.bar');
  bar.setAttribute('aria-valuemax', String(total));
  bar.setAttribute('aria-valuenow', String(step));
  bar.firstElementChild.style.width = `${pct}%`;
  const detail = job.status === 'queued'
    ? (job.queue_position === null || job.queue_position === undefined ? 'queued' : `queued · ${job.queue_position} ahead`)
    : job.status === 'failed' ? `${job.error?.code}: ${job.error?.message}`
    : `step ${step} / ${total}`;
  li.querySelector('.detail').textContent = detail;
  li.querySelector('.cancel').hidden = !(job.status === 'queued' || job.status === 'running');
  if (job.status !== 'running') li.querySelector('.preview').hidden = true;
}

/** The latest live preview of a running job, shown in its card (small previews scaled up, pixelated). */
function renderPreview(li, preview) {
  if (li.dataset.status !== 'running') return;
  const img = li.querySelector('.preview');
  img.src = preview.image;
  img.dataset.step = String(preview.step);
  img.title = `preview at step ${preview.step} / ${preview.total} (${preview.width}×${preview.height})`;
  img.hidden = false;
}

async function track(job) {
  const li = jobCard(job);
  renderJob(li, job);
  try {
    const final = await followJob(job.id, (j) => renderJob(li, j), { onPreview: (p) => renderPreview(li, p) });
    renderJob(li, final);
    if (final.status === 'succeeded') addToGallery(final);
  } catch (err) {
    li.querySelector('.detail').textContent = err.message;
  }
}

function addToGallery(job) {
  $('gallery-empty').hidden = true;
  const p = job.params;
  job.result.images.forEach((img, i) => {
    const card = document.createElement('figure');
    card.className = 'result';
    card.dataset.jobId = job.id;
    const ext = (img.content_type.split('/')[1] ?? 'png').replace('jpeg', 'jpg');
    card.innerHTML = `<img alt=""><figcaption class="meta"><span class="prompt"></span><span class="params"></span>
      <span class="actions"><a class="download">Download</a><a class="open" target="_blank" rel="noopener">Open</a></span></figcaption>`;
    const image = card.querySelector('img');
    image.src = img.url;
    image.alt = p.prompt;
    card.querySelector('.prompt').textContent = p.prompt;
    card.querySelector('.params').textContent = [
      job.type, job.model, `${img.width}×${img.height}`, `seed ${img.seed}`, `${p.steps} steps`,
      `cfg ${p.guidance_scale}`, p.scheduler, p.strength !== undefined && p.strength !== null ? `strength ${p.strength}` : null,
    ].filter(Boolean).join(' · ');
    const download = card.querySelector('.download');
    download.href = img.url;
    download.download = `sdsvc-${job.id}-${i}.${ext}`;
    card.querySelector('.open').href = img.url;
    $('gallery').prepend(card);
  });
}

setMode('txt2img');
void loadModels();
