//! The tracker: live state of access points, clients and sessions, fed by one closed enum of inputs.
