import { EngineContext, type EngineDeps } from './context';
import type { RotateCommand, RotationEvent, StatusCommand } from './events';
import { ManualCommands, type RotateResult } from './manual';
import type { Invocation } from './ports';
import { RotationSteps, type StepResult } from './steps';
import { type SecretReport, Sweep, type SweepSummary } from './sweep';

export { DEFAULT_TIMING, type EngineDeps, type Timing } from './context';
export type { RotateResult } from './manual';
export type { StepResult } from './steps';
export type { SecretReport, SecretState, SweepSummary } from './sweep';

/**
 * The rotation engine: the Secrets Manager four-step protocol (door 1, steps.ts), the scheduled sweep (door 2,
 * sweep.ts) and the manual commands (door 3, manual.ts), over the ports only. Every failure throws; nothing is
 * turned into a result. One engine per container: its doors share one context, and so one memory of values.
 */
export class RotationEngine {
  readonly #steps: RotationSteps;
  readonly #sweep: Sweep;
  readonly #manual: ManualCommands;

  constructor(deps: EngineDeps) {
    const context = new EngineContext(deps);
    this.#steps = new RotationSteps(context);
    this.#sweep = new Sweep(context, this.#steps);
    this.#manual = new ManualCommands(context, this.#sweep);
  }

  runStep(event: RotationEvent, invocation: Invocation): Promise<StepResult> {
    return this.#steps.runStep(event, invocation);
  }

  sweep(invocation: Invocation): Promise<SweepSummary> {
    return this.#sweep.run(invocation);
  }

  rotate(command: RotateCommand, invocation: Invocation): Promise<RotateResult> {
    return this.#manual.rotate(command, invocation);
  }

  status(command: StatusCommand): Promise<{ secrets: SecretReport[] }> {
    return this.#manual.status(command);
  }
}
