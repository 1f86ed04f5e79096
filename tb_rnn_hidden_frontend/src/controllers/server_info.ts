/**
 * What the server offers (`/info`: methods, parameter specs), read once at
 * start. Projections wait for it, so that a link's method the server lacks
 * is replaced first (`repairMethod`), with a notice.
 */
import { fetchInfo } from "../api/routes";
import type { InfoResponse } from "../api/types";
import { unavailableMethodNotice } from "../domain/layout_state";
import { DEFAULT_PROJECTION_PARAMS, METHODS, type ProjectionParams } from "../domain/model";
import type { AppState } from "../state/app_state";
import type { Store } from "../state/store";
import { describeError } from "../api/http";
import { TAGS_TIMEOUT_MS } from "./tags_poller";

/**
 * `params` with a method this server offers: a link's UMAP opened on a server
 * without umap-learn becomes the first offered method, and a notice says so.
 */
export function repairMethod(params: ProjectionParams, info: InfoResponse | null): { params: ProjectionParams; notice: string | null } {
  if (info === null) return { params, notice: null };
  const offered = info.methods.filter((m) => m.available).map((m) => m.name);
  if (offered.includes(params.method)) return { params, notice: null };
  const fallback = METHODS.find((m) => offered.includes(m)) ?? DEFAULT_PROJECTION_PARAMS.method;
  const reason = info.methods.find((m) => m.name === params.method)?.reason ?? null;
  return { params: { ...params, method: fallback }, notice: unavailableMethodNotice(params.method, reason, fallback) };
}

/** Reads `/info` into the store; settles (never rejects) once it is in or has failed. */
export async function loadServerInfo(store: Store<AppState>): Promise<void> {
  try {
    const info = await fetchInfo(AbortSignal.timeout(TAGS_TIMEOUT_MS));
    const state = store.get();
    const { params, notice } = repairMethod(state.params, info);
    store.set({ info, params, ...(notice !== null ? { linkNotices: [...state.linkNotices, notice] } : {}) });
  } catch (err) {
    console.warn("rnn_hidden: could not read the server's projection methods:", describeError(err));
  }
}
