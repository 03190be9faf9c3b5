//! Helpers shared by the stories: the emulator, the daemon, the real binary.
