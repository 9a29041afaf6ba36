//! Security classification (OPEN, WEP, WPA, WPA2, WPA3, OWE) as the truth files define it.
