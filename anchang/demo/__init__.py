"""Demo data: `anchang demo` loads a developer, its sales teams, two projects and a login per role."""
