"""The tab in a real browser (the system Chromium) against a real `tensorboard`."""
