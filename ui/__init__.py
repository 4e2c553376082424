"""Static browser panels served by the service at /ui/."""
