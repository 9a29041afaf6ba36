//! Radiotap headers: a bounds-checked parser of every defined field 0-28, extended presence bitmaps and namespaces.
