// The uploaded image with a mask painted over it. The mask lives in its own canvas at the image's
// own size (white = repaint, black = keep), so it always matches the init image; what the page
// shows is the same strokes in translucent red over the image.

export class MaskEditor {
  constructor({ container, imageCanvas, overlayCanvas, brushInput }) {
    this.container = container;
    this.imageCanvas = imageCanvas;
    this.overlay = overlayCanvas;
    this.brushInput = brushInput;
    this.mask = document.createElement('canvas');
    this.painted = false;
    this.image = null;
    this.bindPointer();
  }

  /** Shows an image (an HTMLImageElement, loaded) and clears the mask. */
  setImage(image) {
    this.image = image;
    for (const c of [this.imageCanvas, this.overlay, this.mask]) {
      c.width = image.naturalWidth;
      c.height = image.naturalHeight;
    }
    // Display size: at most 400 px wide, never larger than the image's double.
    const shown = Math.min(400, image.naturalWidth * 2);
    this.imageCanvas.style.width = `${shown}px`;
    this.imageCanvas.getContext('2d').drawImage(image, 0, 0);
    this.clear();
  }

  clear() {
    const m = this.mask.getContext('2d');
    m.fillStyle = '#000';
    m.fillRect(0, 0, this.mask.width, this.mask.height);
    this.overlay.getContext('2d').clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.painted = false;
  }

  /** The mask as a PNG data URL (null before anything is painted). */
  maskDataUrl() {
    return this.painted ? this.mask.toDataURL('image/png') : null;
  }

  bindPointer() {
    let last = null;
    const point = (e) => {
      const r = this.overlay.getBoundingClientRect();
      return { x: (e.clientX - r.left) * (this.overlay.width / r.width), y: (e.clientY - r.top) * (this.overlay.height / r.height), scale: this.overlay.width / r.width };
    };
    const stroke = (from, to) => {
      // The brush is sized in screen pixels, so it feels the same on small and large images.
      const width = Number(this.brushInput.value) * to.scale;
      for (const [ctx, colour] of [[this.mask.getContext('2d'), '#fff'], [this.overlay.getContext('2d'), 'rgba(255, 70, 90, 0.55)']]) {
        ctx.save();
        ctx.globalCompositeOperation = 'source-over';
        ctx.strokeStyle = colour;
        ctx.fillStyle = colour;
        ctx.lineCap = 'round';
        ctx.lineJoin = 'round';
        ctx.lineWidth = width;
        ctx.beginPath();
        ctx.moveTo(from.x, from.y);
        ctx.lineTo(to.x + 0.01, to.y);
        ctx.stroke();
        ctx.restore();
      }
      this.painted = true;
    };
    this.overlay.addEventListener('pointerdown', (e) => {
      if (!this.image) return;
      this.overlay.setPointerCapture(e.pointerId);
      last = point(e);
      stroke(last, last);
    });
    this.overlay.addEventListener('pointermove', (e) => {
      if (!last) return;
      const p = point(e);
      stroke(last, p);
      last = p;
    });
    const end = () => { last = null; };
    this.overlay.addEventListener('pointerup', end);
    this.overlay.addEventListener('pointercancel', end);
  }
}
