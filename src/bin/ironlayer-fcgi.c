/* ironlayer-fcgi.c: the FastCGI worker */
int main(void)
{
	return 1;
}
