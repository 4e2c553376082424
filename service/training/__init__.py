"""Training and continuing education in T-CPR (AHA programme part two): simulator scenarios
played live to a trainee, scored from their audits, and the hours each person has trained."""
