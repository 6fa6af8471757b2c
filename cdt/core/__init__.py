"""What every page shares: layout helpers, locale, security headers, error pages."""
