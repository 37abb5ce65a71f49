"""tap-salesforce: a Singer tap for Salesforce built on tenantsync.tapkit."""
