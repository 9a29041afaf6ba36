//! The redb store: schema, one batching writer, and readers that never block it.
