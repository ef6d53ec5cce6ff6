"""The exchange boundary: the port protocol and its adapters. Only this package imports ccxt."""
