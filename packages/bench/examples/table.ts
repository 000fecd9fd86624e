import { markdownTable, summarize } from '../src/index.js';

// Port-I/O exit round trips in µs from three repeats of each side (what `pnpm bench` collects):
const metrics = summarize({
  pio: { reference: [30.1, 29.8, 31.0], qemu: [55.2, 54.0, 56.1], c: [28.9, 29.5, 29.0] },
});
const pio = metrics.find((m) => m.id === 'pio')!;
console.log(pio.vsC?.toFixed(3), pio.goalOutcome); // 1.038 { text: '≤ 1.10× C', ratio: 1.038..., met: true }
console.log(markdownTable([pio]));
