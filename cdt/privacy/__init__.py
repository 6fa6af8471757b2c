"""Personal data under Law 91/2025/QH15: consent, rights requests, erasure, restriction."""
