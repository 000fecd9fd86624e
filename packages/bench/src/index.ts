export { buildCVmm, C_VMM_DONE, type CVmmRun, runCVmm } from './c-vmm.js';
export { machineInfo } from './machine.js';
export { GUEST_RAM_MEMFD, type ProcessMemory, parseSmaps, readVmmMemory } from './memory.js';
export { type Goal, METRICS, type MetricInfo, type Side, workValue } from './metrics.js';
export {
  type BenchReport,
  type GoalOutcome,
  type MachineInfo,
  type MetricSummary,
  machineLine,
  markdownTable,
  README_END,
  README_START,
  summarize,
  svgChart,
  updateReadme,
} from './report.js';
export { median, pairedRatio } from './stats.js';
export {
  type BenchConfig,
  DEFAULT_CONFIG,
  QUICK_CONFIG,
  runSuite,
  type Samples,
  type SuiteOutcome,
} from './suite.js';
