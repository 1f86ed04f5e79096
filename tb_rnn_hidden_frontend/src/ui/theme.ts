/**
 * Light or dark, as TensorBoard is: its page's <body> carries `dark-mode` when
 * the user turns dark mode on. Followed live (MutationObserver); outside
 * TensorBoard, the system preference.
 */
export type Theme = "light" | "dark";

function parentBody(): HTMLElement | null {
  try {
    if (window.parent !== window) return window.parent.document.body;
  } catch {
    // cross-origin parent
  }
  return null;
}

export function currentTheme(): Theme {
  const body = parentBody();
  if (body !== null) return body.classList.contains("dark-mode") ? "dark" : "light";
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Sets `<html data-theme>` now and whenever TensorBoard's theme changes. */
export function followTheme(): void {
  const apply = () => {
    const theme = currentTheme();
    if (document.documentElement.dataset["theme"] !== theme) document.documentElement.dataset["theme"] = theme;
  };
  apply();
  const body = parentBody();
  if (body !== null) {
    new MutationObserver(apply).observe(body, { attributes: true, attributeFilter: ["class"] });
  } else {
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", apply);
  }
}
