"""What the teams do: indicators, monthly team reports, deadlines and locks, targets, the outputs report."""
