/**
 * The `tags` listing, polled while the page is visible, so that checkpoints
 * logged while training runs appear without a reload. Each answer goes into
 * the store (`withTags` keeps or repairs the selection); a failure is
 * reported in `state.requests` and the view stays as it was.
 */
import { fetchTags } from "../api/routes";
import { withTags, type AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { startPolling, type Poller } from "./poll";
import { describeError } from "../api/http";

/** How often the `tags` listing is re-fetched while the page is visible (TensorBoard's reload is 5 s too). */
export const TAGS_POLL_INTERVAL_MS = 5_000;
/** A `tags` request still pending after this is abandoned, so that polling goes on. */
export const TAGS_TIMEOUT_MS = 30_000;

/** Starts polling; `answered` runs after each listing that arrived. */
export function startTagsPoller(store: Store<AppState>, answered: () => void): Poller {
  // TensorBoard calls render() as `void m.render()`, so nothing may escape as a rejection.
  const poll = async () => {
    try {
      const tags = await fetchTags(AbortSignal.timeout(TAGS_TIMEOUT_MS));
      const before = store.get();
      store.set({ ...withTags(before, tags), requests: { ...before.requests, tagsLoaded: true, tagsError: null } });
      answered();
    } catch (err) {
      // The view stays as it was; the next poll may succeed and clear this.
      const detail = describeError(err);
      const requests = store.get().requests;
      store.set({ requests: { ...requests, tagsError: requests.tagsLoaded ? `Could not refresh the list of checkpoints: ${detail}` : detail } });
    }
  };
  return startPolling(poll, TAGS_POLL_INTERVAL_MS, document);
}
