pub mod memory_app;
