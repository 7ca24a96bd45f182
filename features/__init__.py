"""Point-in-time behavioural and 5 C's of credit features."""
