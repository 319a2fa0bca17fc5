"""What the platform is told of each lifecycle's transitions: hooks that add the outbox event
inside the transaction of the transition (qc_app.outbox delivers them). Its own package so the
outbox itself depends on no lifecycle, and the lifecycles that emit events directly (claims,
merchants, listings, warehouse) can import the outbox without a cycle."""
