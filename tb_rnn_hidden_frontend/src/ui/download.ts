/** Saving what the tab made (an image, a table) as a file the browser downloads. */

/** Downloads `blob` as `name` (a temporary object URL, revoked once the click is handled). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A file name from parts (run, tag, step, what): characters a file system may refuse become "_". */
export function fileName(parts: readonly (string | number)[], extension: string): string {
  const stem = parts.map((part) => String(part).replace(/[^A-Za-z0-9._-]+/g, "_")).filter((part) => part !== "").join("-");
  return `${stem || "rnn_hidden"}.${extension}`;
}
