// A hand-drawn line chart on <canvas> for the overview's live numbers: a sliding window of
// points per series, an auto-scaled y axis with round ticks, a time axis, and a legend with
// the latest values. Sized for the device pixel ratio so lines stay sharp.

const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5'];

export class LineChart {
  /**
   * @param canvas the <canvas> to draw on
   * @param options {title, series: [names], format: value => text, windowPoints}
   */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.title = options.title;
    this.series = options.series.map((name, i) => ({ name, color: COLORS[i % COLORS.length], values: [] }));
    this.format = options.format ?? ((v) => v.toFixed(1));
    this.windowPoints = options.windowPoints ?? 60;
    // The axis never shrinks below this, so an idle node shows flat lines at zero on a
    // readable scale rather than one stretched to fractions.
    this.axisFloor = options.axisFloor ?? 1;
    this.times = [];
    this.updates = 0;
    this.draw();
  }

  /** Adds one point per series (in the order of the series names) at time atMs. */
  push(atMs, values) {
    this.times.push(atMs);
    this.series.forEach((s, i) => s.values.push(Number.isFinite(values[i]) ? values[i] : 0));
    if (this.times.length > this.windowPoints) {
      this.times.shift();
      for (const s of this.series) s.values.shift();
    }
    this.updates++;
    this.canvas.dataset.points = String(this.times.length);
    this.canvas.dataset.updates = String(this.updates);
    this.draw();
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    const widthCss = this.canvas.clientWidth || 400;
    const heightCss = this.canvas.clientHeight || 180;
    if (this.canvas.width !== Math.round(widthCss * ratio)) this.canvas.width = Math.round(widthCss * ratio);
    if (this.canvas.height !== Math.round(heightCss * ratio)) this.canvas.height = Math.round(heightCss * ratio);
    const context = this.canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, widthCss, heightCss);
    context.font = '12px system-ui, sans-serif';

    const left = 64;
    const right = widthCss - 12;
    const top = 40;
    const bottom = heightCss - 22;

    // Title and legend with the latest value of each series.
    context.fillStyle = '#1d2330';
    context.font = '600 13px system-ui, sans-serif';
    context.fillText(this.title, left, 16);
    context.font = '12px system-ui, sans-serif';
    let x = left;
    for (const s of this.series) {
      const latest = s.values.length > 0 ? this.format(s.values[s.values.length - 1]) : '–';
      const label = `${s.name} ${latest}`;
      context.fillStyle = s.color;
      context.fillRect(x, 24, 10, 4);
      context.fillStyle = '#445';
      context.fillText(label, x + 14, 31);
      x += context.measureText(label).width + 30;
    }

    // The y axis: from 0 to a round number above the largest value in the window.
    const largest = Math.max(this.axisFloor, ...this.series.flatMap((s) => s.values));
    const { maximum, step } = niceScale(largest);
    context.strokeStyle = '#e3e6ec';
    context.fillStyle = '#667';
    context.lineWidth = 1;
    context.textAlign = 'right';
    for (let value = 0; value <= maximum + step / 2; value += step) {
      const y = bottom - (value / maximum) * (bottom - top);
      context.beginPath();
      context.moveTo(left, Math.round(y) + 0.5);
      context.lineTo(right, Math.round(y) + 0.5);
      context.stroke();
      context.fillText(this.format(value), left - 6, y + 4);
    }
    context.textAlign = 'left';

    if (this.times.length === 0) {
      context.fillStyle = '#889';
      context.fillText('waiting for live data…', left + 10, (top + bottom) / 2);
      return;
    }
    // The x axis spans the window; the newest point is at the right edge.
    const stepX = (right - left) / Math.max(1, this.windowPoints - 1);
    const offset = this.windowPoints - this.times.length;
    context.fillStyle = '#667';
    // The oldest point's time is labelled once the window is wide enough not to collide.
    if ((this.times.length - 1) * stepX > 140)
      context.fillText(new Date(this.times[0]).toLocaleTimeString(), left + offset * stepX, heightCss - 6);
    context.textAlign = 'right';
    context.fillText(new Date(this.times[this.times.length - 1]).toLocaleTimeString(), right, heightCss - 6);
    context.textAlign = 'left';
    context.lineWidth = 2;
    context.lineJoin = 'round';
    for (const s of this.series) {
      context.strokeStyle = s.color;
      context.beginPath();
      s.values.forEach((value, i) => {
        const px = left + (offset + i) * stepX;
        const py = bottom - (value / maximum) * (bottom - top);
        if (i === 0) context.moveTo(px, py);
        else context.lineTo(px, py);
      });
      context.stroke();
    }
  }
}

/** A top of the axis at 1, 2 or 5 times a power of ten, with four or five ticks. */
function niceScale(largest) {
  if (largest <= 0) return { maximum: 1, step: 0.25 };
  const rough = largest / 4;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  return { maximum: Math.ceil(largest / step) * step, step };
}
