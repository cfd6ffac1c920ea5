"""Services: validate, plan, write state, commit. The only writers of state."""
