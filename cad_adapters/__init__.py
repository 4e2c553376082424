"""CAD feed adapters: one module per dialect, each a pure parser plus a small runner."""
