/**
 * The projection view (being built): every valid step of every sequence as a
 * point of the 2-D layout in `state.projection.coords`.
 */
import type { Store } from "../store";
import type { AppState } from "../store";

export function mountProjection(parent: HTMLElement, store: Store<AppState>): void {
  void parent;
  void store;
}
