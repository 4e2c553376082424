"""Quality improvement: audit drafts and AHA T-CPR measures as pure functions over call state."""
