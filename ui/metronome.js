// Compression metronome on the Web Audio clock, with look-ahead scheduling ("A Tale of Two
// Clocks"): a coarse timer wakes every 25 ms and books every beat due in the next 100 ms at its
// exact AudioContext time, so main-thread jank never shifts a beat. 100-120 per minute (AHA),
// 110 by default. `beats` keeps the booked times, which is what the tests measure.
"use strict";

class Metronome {
  constructor({ bpm = 110, onBeat = () => {} } = {}) {
    this.bpm = bpm;
    this.onBeat = onBeat;
    this.ctx = null;
    this.running = false;
    this.nextTime = 0;
    this.count = 0;
    this.beats = [];
    this.timer = null;
    this.visual = [];
    this.frame = null;
  }

  static clamp(bpm) { return Math.min(120, Math.max(100, Math.round(bpm))); }

  setRate(bpm) { this.bpm = Metronome.clamp(bpm); }

  ensureContext() {
    if (!this.ctx) this.ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (this.ctx.state === "suspended") this.ctx.resume();
    return this.ctx;
  }

  start() {
    if (this.running) return;
    const ctx = this.ensureContext();
    this.running = true;
    this.count = 0;
    this.beats = [];
    this.nextTime = ctx.currentTime + 0.05;
    this.schedule();
    this.draw();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    cancelAnimationFrame(this.frame);
    this.visual = [];
  }

  schedule() {
    if (!this.running) return;
    const ctx = this.ctx;
    while (this.nextTime < ctx.currentTime + 0.1) {
      this.book(this.nextTime, this.count % 4 === 0);
      this.beats.push(this.nextTime);
      if (this.beats.length > 2000) this.beats.splice(0, 1000);
      this.visual.push(this.nextTime);
      this.count += 1;
      this.nextTime += 60 / this.bpm;
    }
    this.timer = setTimeout(() => this.schedule(), 25);
  }

  book(time, accent) {
    const ctx = this.ctx;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = accent ? 1320 : 880;
    gain.gain.setValueAtTime(0.0001, time);
    gain.gain.exponentialRampToValueAtTime(0.6, time + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0001, time + 0.05);
    osc.connect(gain).connect(ctx.destination);
    osc.start(time);
    osc.stop(time + 0.06);
  }

  draw() {
    if (!this.running) return;
    const now = this.ctx.currentTime;
    while (this.visual.length && this.visual[0] <= now) {
      this.visual.shift();
      this.onBeat();
    }
    this.frame = requestAnimationFrame(() => this.draw());
  }
}

// A short two-tone alarm for elapsed-time alerts.
function soundAlert(ctx) {
  if (!ctx) return;
  const t = ctx.currentTime + 0.01;
  [0, 0.18].forEach((offset, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = i ? 660 : 990;
    gain.gain.setValueAtTime(0.4, t + offset);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t + offset);
    osc.stop(t + offset + 0.17);
  });
}
