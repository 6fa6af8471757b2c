"""Administrative units: province > district > commune > village."""
