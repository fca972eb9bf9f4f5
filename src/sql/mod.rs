//! Database stores (features `sqlite` and `postgres`).
