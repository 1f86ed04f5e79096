/**
 * Playing through checkpoints (the controls' Play button sets `state.playing`).
 *
 * Each checkpoint stays on screen `PLAY_DWELL_MS` once its own final layout is
 * in the store (or its projection failed or was cancelled), then the next one
 * is selected. A provisional layout, or the previous checkpoint's, never
 * counts: Play shows training, so it waits for each checkpoint's real layout.
 * While one dwells, the next one's layout is asked for and fetched ahead, so
 * that it is drawn together with its data.
 */
import { projectionKey, sentParams } from "../domain/layout_state";
import type { ProjectionClient } from "./projection_jobs";
import { selectionOf, stepsOf, type AppState } from "../state/app_state";
import type { Store } from "../state/store";

/** While playing, how long each checkpoint stays on screen once its projection is shown. */
export const PLAY_DWELL_MS = 1_500;

export function drivePlay(store: Store<AppState>, client: ProjectionClient): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dwelling: string | null = null; // the projection key whose dwell timer runs
  store.subscribe((state, previous) => {
    const p = state.projection;
    const key = state.data !== null && state.data.step === state.step ? projectionKey(state) : null;
    if (state.playing && !previous.playing && key !== null && p.key !== key) {
      // Started on a layout of other parameters (no alignment): lay this one out aligned too, so
      // that the next checkpoint's layout has a neighbour to align to.
      void client.project();
    }
    // This checkpoint's own final layout: right after its data arrives the store may still hold another's.
    const shown =
      state.playing && key !== null && p.key === key && (p.coords !== null || p.state === "failed" || p.state === "cancelled");
    if (!shown) {
      clearTimeout(timer);
      dwelling = null;
      return;
    }
    if (dwelling === key) return; // other changes (hover, …) do not restart the dwell
    dwelling = key;
    const steps = stepsOf(state);
    const nextStep = steps[steps.indexOf(state.step as number) + 1];
    if (nextStep === undefined) {
      store.set({ playing: false });
      return;
    }
    // Ask for the next layout now: the server computes it after this one, aligned to it.
    const points = state.data?.pointSequence.length ?? 0;
    void client.prefetch({ ...selectionOf(state), step: nextStep }, sentParams(state), points, () => store.get().playing);
    timer = setTimeout(() => {
      dwelling = null;
      if (store.get().playing && store.get().step === state.step) store.set({ step: nextStep });
    }, PLAY_DWELL_MS);
  });
}
