"""The controller: a registry of customers, providers, destinations, sync configs and
connections; Meltano configuration rendered from it; runs recorded back into it."""
