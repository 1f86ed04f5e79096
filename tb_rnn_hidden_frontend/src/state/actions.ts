/**
 * The user's intents that controllers carry out, as store patches: the views
 * write these, the projection jobs and the player react to the state (no
 * events between views and controllers).
 */
import type { ProjectionParams } from "../domain/model";
import { stepsOf, type AppState } from "./app_state";

/** Retry the projection job (a new object each time, so that a second click is a second request). */
export function retryProjection(): Pick<AppState, "projectionAction"> {
  return { projectionAction: { kind: "retry" } };
}

/** Cancel the projection job. */
export function cancelProjection(): Pick<AppState, "projectionAction"> {
  return { projectionAction: { kind: "cancel" } };
}

/** Play or pause; playing starts from the first checkpoint when at the last, else from here. */
export function togglePlay(state: Readonly<AppState>): Partial<AppState> {
  if (state.playing) return { playing: false };
  const steps = stepsOf(state);
  const atEnd = state.step === steps[steps.length - 1];
  return { playing: true, playAligned: true, ...(atEnd && steps[0] !== undefined ? { step: steps[0] } : {}) };
}

/**
 * Applying the form's (valid) parameters: new ones are sent from now on, also
 * after Play; the same ones drop Play's alignment if the form says none, or
 * else ask for the projection again.
 */
export function applyParams(state: Readonly<AppState>, next: ProjectionParams): Partial<AppState> {
  if (JSON.stringify(next) !== JSON.stringify(state.params)) return { params: next, playAligned: false };
  if (state.playAligned && !state.playing && next.align !== "neighbor") return { playAligned: false };
  return retryProjection();
}
