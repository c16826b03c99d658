"""Pattern plug-ins: sagas, event stores, rollouts, the mesh, gateway rate limits, client resilience."""
