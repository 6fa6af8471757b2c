"""Teams, people and memberships: the registry itself."""
