//! Information elements of management frames, and the per-frame summary of a BSS's elements.
