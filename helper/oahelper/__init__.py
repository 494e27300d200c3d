"""oahelper: find the free, legal copy of the scholarly article you are looking at."""

__version__ = "0.1.0"
API_VERSION = 1
